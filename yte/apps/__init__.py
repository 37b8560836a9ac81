"""Applications composed of the layers below: the demo and the year-end report."""
