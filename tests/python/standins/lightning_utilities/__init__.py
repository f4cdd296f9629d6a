"""Stand-in for lightning_utilities: only what Lightning's rank-zero helpers build on."""
