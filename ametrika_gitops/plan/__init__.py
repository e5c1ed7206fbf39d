"""Plans: what to create, change or delete in each DNS zone, as data (octoDNS's way)."""
