"""Local-only tooling for Trafficgate: the embedded AWS stand-in and the local runner.

Nothing in this package ships in the Lambda layer.
"""
