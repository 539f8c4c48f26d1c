"""Privacy and data governance: usage records, erasure, pseudonymisation, differential privacy."""
