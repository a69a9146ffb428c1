"""Example data for demos and tutorials that leafml can make itself, offline (clearly labelled where simulated)."""
