"""Conformance against Kafka Streams: a scenario corpus run through a Kafka Streams oracle
(conformance/oracle, Java) and through streams_app's TopologyTestDriver, compared record by
record. See conformance/README.md."""
