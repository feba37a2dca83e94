"""Tests of dispersa."""
