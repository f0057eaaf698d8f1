"""The demo web: an embedded, offline stand-in for the shops and social networks the pipeline crawls."""

from include.demoweb.server import DemoWeb, run_demo_web
from include.demoweb.world import World, build_world

__all__ = ["DemoWeb", "World", "build_world", "run_demo_web"]
