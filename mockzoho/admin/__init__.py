"""The control API under /__admin."""
