"""Layer 0: the errors users see, bounded reading and atomic writing of files. Imports nothing of blocsim."""
