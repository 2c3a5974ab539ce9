"""Custom Trafficgate checks of the (example) orders service."""
