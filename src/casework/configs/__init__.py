"""Configuration evidence: flattening config files to key paths, and naming their environment."""
