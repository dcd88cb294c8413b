"""quba.scoring"""
