"""Made-up review data for the demo, the tests and the benchmark, calibrated to the published figures."""
