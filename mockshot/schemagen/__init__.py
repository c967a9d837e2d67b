"""schemagen"""
