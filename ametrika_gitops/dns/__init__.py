"""DNS providers: where the planned records are read and written."""
