"""The public board (公开): published cases and their answers, on the public listener."""
