"""Devices read over SNMP: interfaces, uptime, storage, CPU, sensors and UPSes."""
