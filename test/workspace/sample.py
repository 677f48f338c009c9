"""A small Python module to try Wisp on."""

import math
from dataclasses import dataclass


@dataclass
class Point:
    x: float
    y: float


def distance(a: Point, b: Point) -> float:
    return math.hypot(a.x - b.x, a.y - b.y)


def centroid(points: list[Point]) -> Point:
    n = len(points)
    return Point(sum(p.x for p in points) / n, sum(p.y for p in points) / n)


class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

    def pop(self):
        return self.items.pop()


def fibonacci(n: int) -> int:
    
