"""The item exchange sidecar: members sell, auction, swap and give away things."""
