"""Commands beyond validate and compile, grouped by the world they touch."""
