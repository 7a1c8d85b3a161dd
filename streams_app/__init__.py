"""streams_app: Kafka Streams semantics in Python, on Faust, aiokafka and RocksDB."""
