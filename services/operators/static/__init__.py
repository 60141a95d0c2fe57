"""The operator console's page, script and style (shipped as package data; served at /static)."""
