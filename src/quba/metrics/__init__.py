"""quba.metrics"""
