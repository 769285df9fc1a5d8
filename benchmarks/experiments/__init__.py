"""What-if experiments on the lite engine; their findings are in benchmarks/README.md."""
