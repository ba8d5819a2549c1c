"""A bucket-name generator, as teams write them with pulumi-random."""

import sys

import pulumi
import pulumi_random as random

config = pulumi.Config()
pet = random.RandomPet("name", prefix=config.require("prefix"), length=2)
suffix = random.RandomString("suffix", length=6, special=False, upper=False)

pulumi.export("name", pet.id)
pulumi.export("sdk", pulumi.__file__)  # which pulumi the engine ran with: the program's, not newinfra's
pulumi.export("python", sys.prefix)
