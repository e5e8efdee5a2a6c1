"""The docs, shipped inside the package as `mockzoho.docs` (`mockzoho docs` lists and prints them)."""
