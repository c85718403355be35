"""Tests of the tracker's seams (``admit``, ``cache=``) and of ``patch_all``."""
