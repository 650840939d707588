"""The collector's rules applied to reports and to time: typed outcomes, no HTTP."""
