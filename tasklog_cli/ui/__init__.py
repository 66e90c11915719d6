"""`tasklog ui`: the interactive dashboard (the only package that imports Textual, and only when it runs)."""
