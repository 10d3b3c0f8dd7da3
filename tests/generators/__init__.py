"""Seeded generators of realistic evidence bundles for the four escalations of issue 5."""
