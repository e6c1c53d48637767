"""Speed and scale measurements of kps-analysis, run on demand (`make bench`).

Every result is a ratio against a baseline measured in the same run, so figures are
comparable across machines. See README.md in this folder.
"""
