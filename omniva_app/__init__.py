"""Front ends: the omniva CLI, the REST API and run launching (the top layer)."""
