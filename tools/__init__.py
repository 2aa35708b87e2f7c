"""Developer tools outside the product package."""
