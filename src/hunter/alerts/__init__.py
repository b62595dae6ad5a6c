"""Alerts: detected changes stored once, shown in-app, delivered by signed webhook and e-mail.

``store`` records changes and manages alert state, ``delivery`` sends pending deliveries and
``ssrf`` vets webhook targets.
"""
