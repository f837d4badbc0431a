"""The callbacks that write files: ModelCheckpoint, BackupAndRestore, CSVLogger, TensorBoard."""
