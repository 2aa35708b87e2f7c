"""talentbot: the Talent Service Window assistant (pure logic, Rasa components, command line)."""
