"""Business rules. Nothing in here touches Flask's request objects."""
