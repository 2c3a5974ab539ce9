"""The local blue/green rehearsal: stand-in AWS, two real apps, a local load balancer and the hooks."""
