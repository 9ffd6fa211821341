import pytest

from latentwatch.cli import main


@pytest.mark.kafka
def test_status_answers_zero_when_the_broker_is_up(kafka_bootstrap):
    assert main(["kafka", "status"]) == 0


def test_unknown_action_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["kafka", "explode"])
    assert "invalid choice" in capsys.readouterr().err
