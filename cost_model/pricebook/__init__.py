"""The price book: list prices of everything a stack creates (instances of every kind and the managed
services around them), each with its source and as-of date; the bill (``newinfra cost``) reads it."""

from newinfra.cost_model.pricebook.loader import Price, PriceBook, PriceBookError, load_pricebook

__all__ = ["Price", "PriceBook", "PriceBookError", "load_pricebook"]
