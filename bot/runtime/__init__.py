"""Running the assistant: training on change, and the server processes."""
