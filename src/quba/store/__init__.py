"""quba.store"""
