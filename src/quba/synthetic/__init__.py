"""quba.synthetic"""
