"""Several hosts simulated on one machine (network namespaces, HAProxy in front): `make multihost`, and
tests/scale/test_multihost.py."""
