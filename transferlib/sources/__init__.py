"""Pretrained networks that packages ship inside their wheels, named as a study's
``source_network`` (``module:function``), so a study can start from one with no download."""
