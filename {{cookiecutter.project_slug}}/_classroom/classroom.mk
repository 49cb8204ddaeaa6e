# GitHub Classroom's autograding, included by the Makefile (as every *.mk file beside it):
# the grader's steps run only `make`, with nothing but PATH and HOME set,
# so all that they need is set here (docs/classroom.md).
.PHONY: grade-reproduce grade-score
grade-reproduce: image ## [container] rerun every run in results/, as the autograder does
	$(IN_CONTAINER) $(IMAGE) python grade.py reproduce
grade-score: image ## [container] the best reproduced score against grading.toml's min_score
	$(IN_CONTAINER) $(IMAGE) python grade.py score
