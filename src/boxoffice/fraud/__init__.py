"""Fraud Watch: spikes per employee and device against their own baseline, flagged and explained."""
