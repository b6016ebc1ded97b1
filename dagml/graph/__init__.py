"""The one validated graph that the renderer, the runner and the compiler read."""
