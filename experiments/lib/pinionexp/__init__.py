"""Shared code of pinion's experiment scripts: build, pack, boot, count, summarise."""
