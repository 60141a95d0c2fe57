"""The field page: static files served at / and /static (shipped as package data)."""
