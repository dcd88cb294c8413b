"""quba.report"""
