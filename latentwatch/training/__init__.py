"""Reading training windows from where the user keeps them (a Kafka topic); the file readers are in pipelines/data."""
