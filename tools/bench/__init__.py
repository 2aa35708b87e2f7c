"""`make bench`: training time, model size, memory, latency, throughput and accuracy, against Rasa's starter."""
