"""The demo world behind ``manage.py seed_demo``: an organisation tree, demo accounts, demo cases played through the
case services, and optionally many synthetic cases bulk-inserted for reports and benchmarks.

It uses ``accounts`` and ``cases`` (their services, selectors and models) and nothing there uses it. The stories
are data in ``demo/data/``; the code here only loads and plays them.
"""
