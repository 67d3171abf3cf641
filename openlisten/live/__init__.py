"""Live ``/v1/listen``: sans-I/O sessions and channels, their driver, and the service every connection shares."""
